#ifndef C_RILL_ZLIB_H
#define C_RILL_ZLIB_H

#include <zlib.h>

// deflateInit2 is a macro (it passes the library version and the stream's size), which Swift cannot call.
static inline int CRillZlib_deflateInit2(z_streamp stream, int level, int method, int windowBits, int memLevel,
                                         int strategy) {
    return deflateInit2(stream, level, method, windowBits, memLevel, strategy);
}

#endif
