/*
 * bfloat16 tile arithmetic on AMX (see amx_tiles.h).
 *
 * Why AMX: one core's tile unit does 1024 bf16 multiply-adds per
 * instruction into fp32 sums, several times the fp32 FMA peak, and it is
 * what the opt-in bf16 precision exists for. Linux hands the tile registers
 * to a process only when it asks (arch_prctl), so the first use asks once.
 *
 * The micro-kernel keeps 2 x 2 output tiles (32 rows x 32 columns) in the
 * tile registers 0-3 and streams k-blocks of two left tiles (4, 5) and two
 * right tiles (6, 7) through them.
 */
#include "amx_tiles.h"

#include <pthread.h>
#include <stdint.h>
#include <string.h>

#if defined(__x86_64__) && defined(__linux__) &&                               \
    (defined(__clang__) || defined(__GNUC__))
#include <cpuid.h>
#include <immintrin.h>
#include <sys/syscall.h>
#include <unistd.h>
#define HAVE_AMX_PATH 1
#else
#define HAVE_AMX_PATH 0
#endif

/* Round to nearest even, as the hardware conversion does (NaN stays NaN). */
static inline uint16_t bf16_of(float x) {
  uint32_t bits;
  memcpy(&bits, &x, sizeof bits);
  if ((bits & 0x7FFFFFFFu) > 0x7F800000u)
    return (uint16_t)((bits >> 16) | 0x40u);
  bits += 0x7FFFu + ((bits >> 16) & 1u);
  return (uint16_t)(bits >> 16);
}

/* The portable conversions; the AMX path below replaces them with AVX-512
 * ones (every CPU with AMX-BF16 has AVX512-BF16). */
static void rows_generic(const float *src, int64_t ld, int transposed,
                         int64_t rows, int64_t k, uint16_t *dst,
                         int64_t ld_dst) {
  for (int64_t r = 0; r < rows; r++)
    for (int64_t j = 0; j < k; j++)
      dst[r * ld_dst + j] =
          bf16_of(transposed ? src[j * ld + r] : src[r * ld + j]);
}

static void pack_generic(const float *src, int64_t ld, int transposed,
                         int64_t k, int64_t n, uint16_t *dst) {
  int64_t kblocks = srnn_round_up(k, SRNN_BF16_KBLOCK) / SRNN_BF16_KBLOCK;
  int64_t groups = srnn_round_up(n, SRNN_BF16_GROUP) / SRNN_BF16_GROUP;
  for (int64_t g = 0; g < groups; g++)
    for (int64_t kb = 0; kb < kblocks; kb++) {
      uint16_t *tile = dst + (g * kblocks + kb) * SRNN_BF16_TILE;
      for (int64_t c = 0; c < SRNN_BF16_GROUP; c++) {
        int64_t col = g * SRNN_BF16_GROUP + c;
        for (int64_t i = 0; i < SRNN_BF16_KBLOCK; i++) {
          int64_t j = kb * SRNN_BF16_KBLOCK + i;
          float v = 0.0f;
          if (col < n && j < k)
            v = transposed ? src[col * ld + j] : src[j * ld + col];
          tile[(i / 2) * 32 + c * 2 + i % 2] = bf16_of(v);
        }
      }
    }
}

#if HAVE_AMX_PATH

#define ARCH_REQ_XCOMP_PERM 0x1023
#define XFEATURE_XTILEDATA 18

static int amx_state = 0;
static pthread_once_t amx_once = PTHREAD_ONCE_INIT;

static void amx_probe(void) {
  unsigned a, b, c, d;
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d))
    return;
  int tile = (d >> 24) & 1, bf16 = (d >> 22) & 1;
  if (!tile || !bf16)
    return;
  /* The conversions use AVX512-BF16 (leaf 7.1 EAX bit 5). */
  if (!__get_cpuid_count(7, 1, &a, &b, &c, &d) || !((a >> 5) & 1))
    return;
  /* The OS must save the tile state (XCR0 bits 17 and 18). */
  __get_cpuid(1, &a, &b, &c, &d);
  if (!((c >> 27) & 1)) /* OSXSAVE */
    return;
  unsigned lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  if ((lo & (3u << 17)) != (3u << 17))
    return;
  if (syscall(SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA) != 0)
    return;
  amx_state = 1;
}

int srnn_amx_usable(void) {
  pthread_once(&amx_once, amx_probe);
  return amx_state;
}

#define BF16_VEC __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))

/* 16 floats (masked to `count`) as 16 bf16. */
BF16_VEC static inline __m256i bf16x16(__m512 x) {
  return (__m256i)_mm512_cvtneps_pbh(x);
}

BF16_VEC static void rows_avx512(const float *src, int64_t ld, int transposed,
                                 int64_t rows, int64_t k, uint16_t *dst,
                                 int64_t ld_dst) {
  if (!transposed) {
    for (int64_t r = 0; r < rows; r++)
      for (int64_t j = 0; j < k; j += 16) {
        __mmask16 m = k - j >= 16 ? 0xFFFF : (__mmask16)((1u << (k - j)) - 1);
        __m512 x = _mm512_maskz_loadu_ps(m, src + r * ld + j);
        _mm256_mask_storeu_epi16(dst + r * ld_dst + j, m, bf16x16(x));
      }
    return;
  }
  /* dst row r gathers column r of src, 16 rows of src at a time; the 16
   * source rows stay in L1 while r runs over them. */
  const __m512i index = _mm512_mullo_epi32(
      _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
      _mm512_set1_epi32((int)ld));
  for (int64_t j = 0; j < k; j += 16) {
    __mmask16 m = k - j >= 16 ? 0xFFFF : (__mmask16)((1u << (k - j)) - 1);
    const float *base = src + j * ld;
    for (int64_t r = 0; r < rows; r++) {
      __m512 x =
          _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m, index, base + r, 4);
      _mm256_mask_storeu_epi16(dst + r * ld_dst + j, m, bf16x16(x));
    }
  }
}

BF16_VEC static void pack_avx512(const float *src, int64_t ld, int transposed,
                                 int64_t k, int64_t n, uint16_t *dst) {
  int64_t kblocks = srnn_round_up(k, SRNN_BF16_KBLOCK) / SRNN_BF16_KBLOCK;
  int64_t groups = srnn_round_up(n, SRNN_BF16_GROUP) / SRNN_BF16_GROUP;
  /* Pair p of a tile row holds values k = 2p, 2p + 1 of one column. */
  static const uint16_t order[32] = {0,  16, 1,  17, 2,  18, 3,  19, 4,  20, 5,
                                     21, 6,  22, 7,  23, 8,  24, 9,  25, 10, 26,
                                     11, 27, 12, 28, 13, 29, 14, 30, 15, 31};
  const __m512i interleave = _mm512_loadu_si512(order);
  const __m512i column_stride = _mm512_setr_epi32(
      0, 16, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 208, 224, 240);
  if (!transposed) {
    /* Rows j0 + 2p and j0 + 2p + 1 of src, interleaved, are row p of one
     * tile per group. Walking src row by row reads it in order (a column
     * walk would stride through memory and defeat the prefetchers). */
    for (int64_t kb = 0; kb < kblocks; kb++)
      for (int64_t p = 0; p < 16; p++) {
        int64_t j = kb * SRNN_BF16_KBLOCK + 2 * p;
        const float *even = j < k ? src + j * ld : NULL;
        const float *odd = j + 1 < k ? src + (j + 1) * ld : NULL;
        for (int64_t g = 0; g < groups; g++) {
          int64_t c0 = g * SRNN_BF16_GROUP;
          int64_t lanes = n - c0 < SRNN_BF16_GROUP ? n - c0 : SRNN_BF16_GROUP;
          __mmask16 cm = (__mmask16)((1u << lanes) - 1u);
          __m512 e =
              even ? _mm512_maskz_loadu_ps(cm, even + c0) : _mm512_setzero_ps();
          __m512 o =
              odd ? _mm512_maskz_loadu_ps(cm, odd + c0) : _mm512_setzero_ps();
          __m512i both = (__m512i)_mm512_cvtne2ps_pbh(o, e);
          uint16_t *tile = dst + (g * kblocks + kb) * SRNN_BF16_TILE;
          _mm512_storeu_si512(tile + p * 32,
                              _mm512_permutexvar_epi16(interleave, both));
        }
      }
    return;
  }
  for (int64_t g = 0; g < groups; g++) {
    int64_t c0 = g * SRNN_BF16_GROUP;
    int64_t lanes = n - c0 < SRNN_BF16_GROUP ? n - c0 : SRNN_BF16_GROUP;
    for (int64_t kb = 0; kb < kblocks; kb++) {
      uint32_t *tile = (uint32_t *)(dst + (g * kblocks + kb) * SRNN_BF16_TILE);
      int64_t j0 = kb * SRNN_BF16_KBLOCK;
      /* Column c's 32 values are contiguous in src: they become the
       * 16 pairs of tile column c, 16 dwords apart. */
      int64_t count = k - j0 < 32 ? k - j0 : 32;
      __mmask16 lo = count >= 16 ? 0xFFFF : (__mmask16)((1u << count) - 1u);
      __mmask16 hi = count >= 32   ? 0xFFFF
                     : count <= 16 ? 0
                                   : (__mmask16)((1u << (count - 16)) - 1u);
      for (int64_t c = 0; c < SRNN_BF16_GROUP; c++) {
        __m512i pairs = _mm512_setzero_si512();
        if (c < lanes) {
          const float *column = src + (c0 + c) * ld + j0;
          __m512 first = _mm512_maskz_loadu_ps(lo, column);
          __m512 second = _mm512_maskz_loadu_ps(hi, column + 16);
          pairs = (__m512i)_mm512_cvtne2ps_pbh(second, first);
        }
        _mm512_i32scatter_epi32(tile + c, column_stride, pairs, 4);
      }
    }
  }
}

#define AMX __attribute__((target("amx-tile,amx-bf16,avx512f")))

typedef struct tile_config {
  uint8_t palette, start_row, reserved[14];
  uint16_t bytes_per_row[16];
  uint8_t rows[16];
} tile_config;

/* A constant in memory: compilers see the asm operand of _tile_loadconfig
 * as a pointer-sized read, so stores to a local config may be dropped. */
static const tile_config amx_config __attribute__((aligned(64))) = {
    .palette = 1,
    .bytes_per_row = {64, 64, 64, 64, 64, 64, 64, 64},
    .rows = {16, 16, 16, 16, 16, 16, 16, 16},
};

AMX void srnn_amx_begin(void) { _tile_loadconfig(&amx_config); }

AMX void srnn_amx_end(void) { _tile_release(); }

/* Whether output tile (rows from row0, group g) lies fully in out. */
static inline int full_tile(const srnn_amx_product *p, int64_t row0,
                            int64_t g) {
  return row0 + 16 <= p->rows && p->lanes[g] == SRNN_BF16_GROUP;
}

static float *tile_out(const srnn_amx_product *p, int64_t row0, int64_t g) {
  return p->out + row0 * p->ldo + p->column[g];
}

/* Partial tiles go through a 16 x 16 buffer: copy in (accumulate) ... */
static void gather(const srnn_amx_product *p, int64_t row0, int64_t g,
                   float *buffer) {
  memset(buffer, 0, sizeof(float) * 256);
  if (!p->accumulate)
    return;
  int64_t rows = p->rows - row0 < 16 ? p->rows - row0 : 16;
  for (int64_t r = 0; r < rows; r++)
    memcpy(buffer + r * 16, tile_out(p, row0, g) + r * p->ldo,
           sizeof(float) * (size_t)p->lanes[g]);
}

/* ... and out again. */
static void scatter(const srnn_amx_product *p, int64_t row0, int64_t g,
                    const float *buffer) {
  int64_t rows = p->rows - row0 < 16 ? p->rows - row0 : 16;
  for (int64_t r = 0; r < rows; r++)
    memcpy(tile_out(p, row0, g) + r * p->ldo, buffer + r * 16,
           sizeof(float) * (size_t)p->lanes[g]);
}

/* Tile register numbers are immediates, so each shape is its own code:
 * RT row tiles (1 or 2) x GT groups (1 or 2), accumulators in 0..3. */
#define LOAD_ACC(T, RT_I, GT_I)                                                \
  do {                                                                         \
    int64_t r0_ = row0 + 16 * (RT_I), g_ = g0 + (GT_I);                        \
    if (full_tile(p, r0_, g_)) {                                               \
      if (p->accumulate)                                                       \
        _tile_loadd(T, tile_out(p, r0_, g_), p->ldo * 4);                      \
      else                                                                     \
        _tile_zero(T);                                                         \
    } else {                                                                   \
      gather(p, r0_, g_, buffer[T]);                                           \
      _tile_loadd(T, buffer[T], 64);                                           \
    }                                                                          \
  } while (0)

#define STORE_ACC(T, RT_I, GT_I)                                               \
  do {                                                                         \
    int64_t r0_ = row0 + 16 * (RT_I), g_ = g0 + (GT_I);                        \
    if (full_tile(p, r0_, g_)) {                                               \
      _tile_stored(T, tile_out(p, r0_, g_), p->ldo * 4);                       \
    } else {                                                                   \
      _tile_stored(T, buffer[T], 64);                                          \
      scatter(p, r0_, g_, buffer[T]);                                          \
    }                                                                          \
  } while (0)

AMX static void kernel_2x2(const srnn_amx_product *p, int64_t row0,
                           int64_t g0) {
  float buffer[4][256] __attribute__((aligned(64)));
  LOAD_ACC(0, 0, 0);
  LOAD_ACC(1, 0, 1);
  LOAD_ACC(2, 1, 0);
  LOAD_ACC(3, 1, 1);
  const uint16_t *a0 = p->a + row0 * p->lda, *a1 = a0 + 16 * p->lda;
  const uint16_t *b0 = p->b[g0], *b1 = p->b[g0 + 1];
  for (int64_t kb = 0; kb < p->kblocks; kb++) {
    _tile_loadd(4, a0 + kb * SRNN_BF16_KBLOCK, p->lda * 2);
    _tile_loadd(6, b0 + kb * SRNN_BF16_TILE, 64);
    _tile_dpbf16ps(0, 4, 6);
    _tile_loadd(7, b1 + kb * SRNN_BF16_TILE, 64);
    _tile_dpbf16ps(1, 4, 7);
    _tile_loadd(5, a1 + kb * SRNN_BF16_KBLOCK, p->lda * 2);
    _tile_dpbf16ps(2, 5, 6);
    _tile_dpbf16ps(3, 5, 7);
  }
  STORE_ACC(0, 0, 0);
  STORE_ACC(1, 0, 1);
  STORE_ACC(2, 1, 0);
  STORE_ACC(3, 1, 1);
}

AMX static void kernel_1x2(const srnn_amx_product *p, int64_t row0,
                           int64_t g0) {
  float buffer[2][256] __attribute__((aligned(64)));
  LOAD_ACC(0, 0, 0);
  LOAD_ACC(1, 0, 1);
  const uint16_t *a0 = p->a + row0 * p->lda;
  const uint16_t *b0 = p->b[g0], *b1 = p->b[g0 + 1];
  for (int64_t kb = 0; kb < p->kblocks; kb++) {
    _tile_loadd(4, a0 + kb * SRNN_BF16_KBLOCK, p->lda * 2);
    _tile_loadd(6, b0 + kb * SRNN_BF16_TILE, 64);
    _tile_dpbf16ps(0, 4, 6);
    _tile_loadd(7, b1 + kb * SRNN_BF16_TILE, 64);
    _tile_dpbf16ps(1, 4, 7);
  }
  STORE_ACC(0, 0, 0);
  STORE_ACC(1, 0, 1);
}

AMX static void kernel_2x1(const srnn_amx_product *p, int64_t row0,
                           int64_t g0) {
  float buffer[3][256] __attribute__((aligned(64)));
  LOAD_ACC(0, 0, 0);
  LOAD_ACC(2, 1, 0);
  const uint16_t *a0 = p->a + row0 * p->lda, *a1 = a0 + 16 * p->lda;
  const uint16_t *b0 = p->b[g0];
  for (int64_t kb = 0; kb < p->kblocks; kb++) {
    _tile_loadd(6, b0 + kb * SRNN_BF16_TILE, 64);
    _tile_loadd(4, a0 + kb * SRNN_BF16_KBLOCK, p->lda * 2);
    _tile_dpbf16ps(0, 4, 6);
    _tile_loadd(5, a1 + kb * SRNN_BF16_KBLOCK, p->lda * 2);
    _tile_dpbf16ps(2, 5, 6);
  }
  STORE_ACC(0, 0, 0);
  STORE_ACC(2, 1, 0);
}

AMX static void kernel_1x1(const srnn_amx_product *p, int64_t row0,
                           int64_t g0) {
  float buffer[1][256] __attribute__((aligned(64)));
  LOAD_ACC(0, 0, 0);
  const uint16_t *a0 = p->a + row0 * p->lda;
  const uint16_t *b0 = p->b[g0];
  for (int64_t kb = 0; kb < p->kblocks; kb++) {
    _tile_loadd(4, a0 + kb * SRNN_BF16_KBLOCK, p->lda * 2);
    _tile_loadd(6, b0 + kb * SRNN_BF16_TILE, 64);
    _tile_dpbf16ps(0, 4, 6);
  }
  STORE_ACC(0, 0, 0);
}

void srnn_amx_run(const srnn_amx_product *p) {
  for (int64_t row0 = 0; row0 < p->rows; row0 += 32) {
    int two_rows = row0 + 16 < p->rows;
    int64_t g = 0;
    for (; g + 2 <= p->groups; g += 2)
      two_rows ? kernel_2x2(p, row0, g) : kernel_1x2(p, row0, g);
    if (g < p->groups)
      two_rows ? kernel_2x1(p, row0, g) : kernel_1x1(p, row0, g);
  }
}

#else

/* Never called (no AMX, so srnn_amx_usable() is 0); they keep the public
 * conversions below one piece of code on every platform. */
static void rows_avx512(const float *src, int64_t ld, int transposed,
                        int64_t rows, int64_t k, uint16_t *dst,
                        int64_t ld_dst) {
  rows_generic(src, ld, transposed, rows, k, dst, ld_dst);
}

static void pack_avx512(const float *src, int64_t ld, int transposed, int64_t k,
                        int64_t n, uint16_t *dst) {
  pack_generic(src, ld, transposed, k, n, dst);
}

int srnn_amx_usable(void) { return 0; }
void srnn_amx_begin(void) {}
void srnn_amx_end(void) {}
void srnn_amx_run(const srnn_amx_product *p) { (void)p; }

#endif

void srnn_bf16_rows(const float *src, int64_t ld, int transposed, int64_t rows,
                    int64_t k, uint16_t *dst, int64_t ld_dst) {
  int64_t padded = srnn_round_up(k, SRNN_BF16_KBLOCK);
  /* Gather offsets are 32-bit: 16 rows of src must span less than 2 GiB. */
  if (srnn_amx_usable() && (!transposed || ld < (INT32_MAX / 64)))
    rows_avx512(src, ld, transposed, rows, k, dst, ld_dst);
  else
    rows_generic(src, ld, transposed, rows, k, dst, ld_dst);
  for (int64_t r = 0; r < rows; r++)
    memset(dst + r * ld_dst + k, 0, sizeof(uint16_t) * (size_t)(padded - k));
}

void srnn_bf16_convert(const float *src, int64_t n, uint16_t *dst) {
  if (srnn_amx_usable())
    rows_avx512(src, n, 0, 1, n, dst, n);
  else
    rows_generic(src, n, 0, 1, n, dst, n);
}

void srnn_bf16_pack(const float *src, int64_t ld, int transposed, int64_t k,
                    int64_t n, uint16_t *dst) {
  if (srnn_amx_usable())
    pack_avx512(src, ld, transposed, k, n, dst);
  else
    pack_generic(src, ld, transposed, k, n, dst);
}
