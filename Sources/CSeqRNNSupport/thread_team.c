/*
 * A team of compute threads for the recurrence (see seqrnn_support.h).
 *
 * Why our own threads: a recurrent layer needs one synchronisation per time
 * step (the next step reads the whole new state). BLAS thread pools wake
 * their workers for every GEMM call and, at the per-step sizes of an RNN,
 * spend more time waking than computing. The team starts its workers once,
 * keeps them spinning briefly between jobs, and gives the job a barrier that
 * costs well under a microsecond when both cores are free.
 *
 * One job runs at a time. A caller that finds the team busy (another thread
 * of the application is running a model) runs its job alone on its own
 * thread instead of waiting, so concurrent calls never deadlock or queue.
 */
#include "seqrnn_support.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>

#if defined(__x86_64__)
#include <immintrin.h>
#define CPU_RELAX() _mm_pause()
#else
#define CPU_RELAX() ((void)0)
#endif

enum { MAX_TEAM = 8 };

/* Pause instructions (about 40 ns each on recent Xeons) a waiting thread
 * spins before it yields its core (about 100 us: longer than one time step
 * of a typical layer), and a worker between jobs before it sleeps (about
 * 1 ms: the gap between the layers of one call, but no busy core once the
 * caller is done). */
enum { SPINS_BEFORE_YIELD = 2500, SPINS_BEFORE_SLEEP = 25000 };

struct srnn_barrier {
  _Atomic int arrived;
  _Atomic unsigned generation;
  int count;
};

static struct {
  pthread_mutex_t busy; /* held by the caller running a job */
  pthread_mutex_t lock; /* guards sleeping workers */
  pthread_cond_t wake;
  _Atomic unsigned job;  /* incremented per job */
  _Atomic int remaining; /* workers still running the current job */
  int started;           /* workers created so far */
  srnn_team_fn fn;
  void *context;
  int count;
  struct srnn_barrier barrier;
} team = {
    .busy = PTHREAD_MUTEX_INITIALIZER,
    .lock = PTHREAD_MUTEX_INITIALIZER,
    .wake = PTHREAD_COND_INITIALIZER,
};

void srnn_barrier_wait(srnn_barrier *barrier) {
  if (barrier == NULL || barrier->count <= 1)
    return;
  unsigned generation =
      atomic_load_explicit(&barrier->generation, memory_order_acquire);
  if (atomic_fetch_add_explicit(&barrier->arrived, 1, memory_order_acq_rel) ==
      barrier->count - 1) {
    atomic_store_explicit(&barrier->arrived, 0, memory_order_relaxed);
    atomic_fetch_add_explicit(&barrier->generation, 1, memory_order_release);
    return;
  }
  for (long spins = 0; atomic_load_explicit(&barrier->generation,
                                            memory_order_acquire) == generation;
       spins++) {
    if (spins < SPINS_BEFORE_YIELD)
      CPU_RELAX();
    else
      sched_yield(); /* the other member may be descheduled: let it run */
  }
}

static void *worker_main(void *argument) {
  int index = (int)(intptr_t)argument;
  unsigned seen = 0;
  for (;;) {
    long spins = 0;
    unsigned job;
    while ((job = atomic_load_explicit(&team.job, memory_order_acquire)) ==
           seen) {
      if (++spins < SPINS_BEFORE_SLEEP) {
        CPU_RELAX();
        continue;
      }
      pthread_mutex_lock(&team.lock);
      while (atomic_load_explicit(&team.job, memory_order_acquire) == seen)
        pthread_cond_wait(&team.wake, &team.lock);
      pthread_mutex_unlock(&team.lock);
    }
    seen = job;
    if (index < team.count)
      team.fn(team.context, index, team.count, &team.barrier);
    atomic_fetch_sub_explicit(&team.remaining, 1, memory_order_acq_rel);
  }
  return NULL;
}

/* Makes sure workers 1..count-1 exist; returns how many members the team
 * can really have (thread creation can fail under resource limits). */
static int ensure_workers(int count) {
  while (team.started < count - 1) {
    pthread_t thread;
    pthread_attr_t attributes;
    pthread_attr_init(&attributes);
    pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
    int failed = pthread_create(&thread, &attributes, worker_main,
                                (void *)(intptr_t)(team.started + 1));
    pthread_attr_destroy(&attributes);
    if (failed)
      break;
    team.started++;
  }
  return team.started + 1 < count ? team.started + 1 : count;
}

/* In a forked child only the forking thread exists: forget the workers. */
static void forget_workers_in_child(void) {
  team.started = 0;
  pthread_mutex_init(&team.busy, NULL);
  pthread_mutex_init(&team.lock, NULL);
  pthread_cond_init(&team.wake, NULL);
}

static pthread_once_t fork_handler_once = PTHREAD_ONCE_INIT;
static void install_fork_handler(void) {
  pthread_atfork(NULL, NULL, forget_workers_in_child);
}

void srnn_team_run(int threads, srnn_team_fn fn, void *context) {
  if (threads > MAX_TEAM)
    threads = MAX_TEAM;
  if (threads <= 1 || pthread_mutex_trylock(&team.busy) != 0) {
    struct srnn_barrier alone = {.count = 1};
    fn(context, 0, 1, &alone);
    return;
  }
  pthread_once(&fork_handler_once, install_fork_handler);
  int count = ensure_workers(threads);
  team.fn = fn;
  team.context = context;
  team.count = count;
  team.barrier.count = count;
  atomic_store(&team.barrier.arrived, 0);
  /* Every started worker takes part in the job counter; those beyond count
   * return at once. */
  atomic_store_explicit(&team.remaining, team.started, memory_order_relaxed);
  pthread_mutex_lock(&team.lock);
  atomic_fetch_add_explicit(&team.job, 1, memory_order_release);
  pthread_cond_broadcast(&team.wake);
  pthread_mutex_unlock(&team.lock);
  fn(context, 0, count, &team.barrier);
  for (long spins = 0;
       atomic_load_explicit(&team.remaining, memory_order_acquire) > 0;
       spins++) {
    if (spins < SPINS_BEFORE_YIELD)
      CPU_RELAX();
    else
      sched_yield();
  }
  pthread_mutex_unlock(&team.busy);
}
