// The system zlib, for the GZIP objects of `rill archive`; everything is in the header.
#include "CRillZlib.h"
