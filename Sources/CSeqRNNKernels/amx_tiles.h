/*
 * bfloat16 tile arithmetic on AMX (private to CSeqRNNKernels; used by
 * bf16_gemm.c and recurrence.c in the opt-in bf16 precision).
 *
 * Operands: a left operand is bf16 rows, row-major, each row padded with
 * zeros to a multiple of 32 values (one AMX k-block) and, because a tile
 * load reads 16 rows, readable up to the next multiple of 16 rows. A right
 * operand is "packed": column groups of 16, each group a run of k-blocks,
 * each k-block one 1 KiB tile in AMX's pair-interleaved layout (element
 * [k][c] at (k / 2) * 32 + c * 2 + k % 2 within its tile).
 */
#ifndef SEQRNN_AMX_TILES_H
#define SEQRNN_AMX_TILES_H

#include <stddef.h>
#include <stdint.h>

/** Values of one AMX k-block and columns of one group. */
enum { SRNN_BF16_KBLOCK = 32, SRNN_BF16_GROUP = 16 };

/** bf16 values of one packed tile (a k-block of one column group). */
enum { SRNN_BF16_TILE = SRNN_BF16_KBLOCK * SRNN_BF16_GROUP };

/** n rounded up to a multiple of m. */
static inline int64_t srnn_round_up(int64_t n, int64_t m) {
  return (n + m - 1) / m * m;
}

/** 1 when this CPU has AMX-BF16 and the kernel lets this process use the
 *  tile registers (asked for once); 0 otherwise. Thread-safe. */
int srnn_amx_usable(void);

/** Loads the tile configuration in the calling thread; call before the
 *  first product of a thread, and srnn_amx_end when the thread is done. */
void srnn_amx_begin(void);

/** Releases the calling thread's tile state. */
void srnn_amx_end(void);

/** dst[r][j] = bf16(src(r, j)) for r < rows, j < k, zero for k <= j <
 *  round_up(k, 32); src(r, j) = src[r * ld + j], or src[j * ld + r] when
 *  transposed. Rounds to nearest even. */
void srnn_bf16_rows(const float *src, int64_t ld, int transposed, int64_t rows,
                    int64_t k, uint16_t *dst, int64_t ld_dst);

/** dst[j] = bf16(src[j]) for j < n (no padding). */
void srnn_bf16_convert(const float *src, int64_t n, uint16_t *dst);

/** Packs columns [0, n) of a k x n right operand into column groups (zero
 *  beyond k and n): B(j, c) = src[j * ld + c], or src[c * ld + j] when
 *  transposed. dst holds round_up(n, 16) / 16 groups of round_up(k, 32) / 32
 *  tiles. */
void srnn_bf16_pack(const float *src, int64_t ld, int transposed, int64_t k,
                    int64_t n, uint16_t *dst);

/** One tile product job: out[r][column[g] + c] (+)= sum over j of
 *  a[r][j] * B_g(j, c), for r < rows, g < groups, c < lanes[g]. */
typedef struct srnn_amx_product {
  const uint16_t *a; /**< left rows (see above) */
  int64_t lda;       /**< row stride of a, in values (multiple of 32) */
  int64_t rows;
  int64_t kblocks;          /**< k-blocks to sum (k / 32) */
  const uint16_t *const *b; /**< per group: its first k-block tile */
  const int64_t *column;    /**< per group: first output column */
  const int *lanes;         /**< per group: valid columns (1..16) */
  int64_t groups;
  float *out;
  int64_t ldo;
  int accumulate; /**< 1: add to what out holds; 0: overwrite */
} srnn_amx_product;

/** The calling thread's scratch for bf16 work, at least bytes long and
 *  64-byte aligned (grow-only; freed when the thread exits); NULL if out of
 *  memory. One user at a time: the GEMM and the recurrence never overlap
 *  in a thread. */
void *srnn_bf16_scratch(size_t bytes);

/** Runs a product in the calling thread (between srnn_amx_begin/end). */
void srnn_amx_run(const srnn_amx_product *p);

#endif
