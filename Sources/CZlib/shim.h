/* shim.h - zlib for Swift (NstraceCore's trace files). deflateInit/inflateInit are macros
 * that Swift cannot call; these inline wrappers pass ZLIB_VERSION and sizeof(z_stream). */
#ifndef CZLIB_SHIM_H
#define CZLIB_SHIM_H

#include <zlib.h>

/* Raw DEFLATE (RFC 1951, windowBits -15): trace file blocks carry their own CRC32, so the
 * zlib wrapper's Adler-32 would only cost time. */
static inline int czlib_deflate_init_raw(z_streamp strm, int level)
{
    return deflateInit2(strm, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
}

static inline int czlib_inflate_init_raw(z_streamp strm)
{
    return inflateInit2(strm, -15);
}

#endif /* CZLIB_SHIM_H */
