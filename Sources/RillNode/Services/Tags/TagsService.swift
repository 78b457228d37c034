import RillAPI
import RillKinesis

/// Tags and resource policies: AddTagsToStream, RemoveTagsFromStream, ListTagsForStream (by stream), and
/// TagResource, UntagResource, ListTagsForResource, Put/Get/DeleteResourcePolicy (by stream or consumer ARN).
/// Reads the catalog and proposes catalog commands; nothing else.
struct TagsService: CatalogService {
    let metadata: any CatalogView
    let proposer: any MetadataProposer
}
