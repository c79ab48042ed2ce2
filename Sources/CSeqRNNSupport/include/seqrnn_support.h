/*
 * Internal C support for the Swift core (not part of the public ABI; the
 * symbols are hidden from libseqrnn.so by its version script).
 *
 * - BLAS: loaded at run time, so that the CPU-type fix for OpenBLAS can be
 *   put in place before OpenBLAS initialises (see blas_loader.c).
 * - The thread-local "last error" text behind seqrnn_last_error().
 */
#ifndef SEQRNN_SUPPORT_H
#define SEQRNN_SUPPORT_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** C = alpha * op(A) * op(B) + beta * C, row-major, float32.
 *  op(X) is X or X^T as trans_x says. Uses the loaded BLAS, or a built-in
 *  loop when none could be loaded. */
void srnn_sgemm(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k,
                float alpha, const float *a, int64_t lda, const float *b,
                int64_t ldb, float beta, float *c, int64_t ldc);

/** The float64 twin of srnn_sgemm (used by the double-precision gradient
 *  checks of the test suite). */
void srnn_dgemm(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k,
                double alpha, const double *a, int64_t lda, const double *b,
                int64_t ldb, double beta, double *c, int64_t ldc);

/** Loads the BLAS once (thread-safe) and describes it, e.g.
 *  "OpenBLAS 0.3.21 ... (Cooperlake)"; "built-in" when none was found. */
const char *srnn_blas_info(void);

/** Sets the number of threads the loaded BLAS may use (if it can be told)
 *  and remembers it as seqrnn's thread budget. */
void srnn_blas_set_threads(int threads);

/** seqrnn's thread budget: the last srnn_blas_set_threads value, else the
 *  number of online CPUs. */
int srnn_thread_budget(void);

/** A barrier shared by the members of one team job. */
typedef struct srnn_barrier srnn_barrier;

/** A team job: member index in [0, count) of count members. Every member
 *  must call srnn_barrier_wait(barrier) the same number of times. */
typedef void (*srnn_team_fn)(void *context, int index, int count,
                             srnn_barrier *barrier);

/** Runs fn on up to threads members at once (the caller is member 0; the
 *  others are long-lived workers) and returns when all have finished. If
 *  the team is already running another job (a concurrent call), fn runs on
 *  the caller alone with count 1. */
void srnn_team_run(int threads, srnn_team_fn fn, void *context);

/** Waits until every member of the job has arrived (no-op for count 1). */
void srnn_barrier_wait(srnn_barrier *barrier);

/** Static text of a status code (see seqrnn_status_string). */
const char *srnn_status_text(int code);

/** Static "MAJOR.MINOR.PATCH" from the header's macros. */
const char *srnn_version_text(void);

/** Stores message as this thread's last error (truncated to 1 KiB). */
void srnn_error_set(const char *message);

/** This thread's last error text, "" if none. Never NULL. */
const char *srnn_error_get(void);

#ifdef __cplusplus
}
#endif

#endif
