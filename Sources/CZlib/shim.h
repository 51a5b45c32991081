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

/* CRC-32 with zlib's values (crc32_z's, bit for bit), faster on x86-64 with PCLMULQDQ: every
 * block of a trace file is checked, and zlib's table-driven crc32 was about a twentieth of
 * reading a file to a report (issue 9). The bulk (a multiple of 16 bytes, at least 64) is
 * folded 64 then 16 bytes at a time by carry-less multiplication into 16 bytes with the same
 * remainder modulo the CRC polynomial; zlib's crc32 then takes those 16 bytes and the tail.
 * The fold constants are x^(D+31) and x^(D-33) mod P (D = 512 or 128 bits, bit-reflected
 * 32-bit values), which place each product in the next chunk's 128 bits. The loads are
 * unaligned and never leave [p, p+n). Without PCLMULQDQ (or off x86-64): crc32_z. */
#if defined(__x86_64__)
typedef long long czlib_v2di __attribute__((vector_size(16)));

static inline int czlib_has_pclmul(void)
{
    static int known = -1;   /* -1 not asked yet, else CPUID.1:ECX bit 1 */
    int v = __atomic_load_n(&known, __ATOMIC_RELAXED);
    if (v < 0) {
        unsigned a, b, c, d;
        __asm__("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(1), "c"(0));
        v = (int)((c >> 1) & 1);
        __atomic_store_n(&known, v, __ATOMIC_RELAXED);
    }
    return v;
}

static inline czlib_v2di czlib_load16(const unsigned char *p)
{
    czlib_v2di v;
    __builtin_memcpy(&v, p, 16);
    return v;
}

/* `x` moved forward by the constants' distance, xored into `next`. */
__attribute__((target("pclmul")))
static inline czlib_v2di czlib_fold(czlib_v2di x, czlib_v2di k, czlib_v2di next)
{
    return __builtin_ia32_pclmulqdq128(x, k, 0x00) ^ __builtin_ia32_pclmulqdq128(x, k, 0x11) ^ next;
}

/* n >= 64 */
__attribute__((target("pclmul")))
static inline unsigned long czlib_crc32_folded(unsigned long crc, const unsigned char *p, size_t n)
{
    const czlib_v2di k512 = { 0x8f352d95, 0x1d9513d7 }, k128 = { 0xae689191, 0xccaa009e };
    size_t bulk = n & ~(size_t)15, at = 64;
    czlib_v2di first = { (long long)(~crc & 0xffffffffUL), 0 };   /* zlib's inverted start */
    czlib_v2di x0 = czlib_load16(p) ^ first, x1 = czlib_load16(p + 16),
               x2 = czlib_load16(p + 32), x3 = czlib_load16(p + 48);
    for (; bulk - at >= 64; at += 64) {
        x0 = czlib_fold(x0, k512, czlib_load16(p + at));
        x1 = czlib_fold(x1, k512, czlib_load16(p + at + 16));
        x2 = czlib_fold(x2, k512, czlib_load16(p + at + 32));
        x3 = czlib_fold(x3, k512, czlib_load16(p + at + 48));
    }
    x0 = czlib_fold(czlib_fold(czlib_fold(x0, k128, x1), k128, x2), k128, x3);
    for (; bulk - at >= 16; at += 16) x0 = czlib_fold(x0, k128, czlib_load16(p + at));
    unsigned char rest[16];
    __builtin_memcpy(rest, &x0, 16);
    /* the 16 bytes from a zeroed register (zlib's form: crc 0xffffffff), then the tail */
    return crc32_z(crc32_z(0xffffffffUL, rest, 16), p + bulk, n - bulk);
}
#endif

static inline unsigned long czlib_crc32(unsigned long crc, const unsigned char *p, size_t n)
{
#if defined(__x86_64__)
    if (n >= 64 && czlib_has_pclmul()) return czlib_crc32_folded(crc, p, n);
#endif
    return crc32_z(crc, p, n);
}

#endif /* CZLIB_SHIM_H */
