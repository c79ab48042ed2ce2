/*
 * test_checkpoint_kill.c - a run killed during a checkpoint save leaves the
 * previous checkpoint loadable.
 *
 * A child process trains a large-ish model (several megabytes of weights
 * and optimizer moments) and saves a checkpoint after every step, resuming
 * from the checkpoint when one exists, as a real training job restarted
 * after a crash does. The parent kills it with SIGKILL at random moments,
 * several times. After every kill the checkpoint path must load, with a
 * data position no older than the last one seen, and a checkpoint's weights
 * must match its step count; temporary files of interrupted saves never
 * carry the final name. At least one kill must land while a save was in
 * progress (a temporary file left behind proves it), or the test retries
 * with other timings.
 */
#include "test_util.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { BATCH = 4, STEPS = 8, INPUT = 32, OUTPUT = 8 };

static char directory[256];
static char path[512];

/* The child: trains and saves forever; never returns. */
static void child_loop(int ready_fd) {
  seqrnn_model *model = NULL;
  seqrnn_trainer *trainer = NULL;
  int64_t position = 0;
  if (seqrnn_trainer_load_checkpoint(path, &model, &trainer, &position) !=
      SEQRNN_OK) {
    seqrnn_model_params mp = seqrnn_model_default_params();
    mp.cell = SEQRNN_CELL_LSTM;
    mp.input_size = INPUT;
    mp.hidden_size = 256;
    mp.num_layers = 2;
    mp.output_size = OUTPUT;
    if (seqrnn_model_create(&mp, &model) != SEQRNN_OK ||
        seqrnn_trainer_create(model, NULL, &trainer) != SEQRNN_OK)
      _exit(3);
    position = 0;
  }
  float x[BATCH * STEPS * INPUT];
  int32_t y[BATCH * STEPS];
  char ready = 1;
  for (;;) {
    tu_rng rng = {(uint64_t)position};
    tu_fill(&rng, x, BATCH * STEPS * INPUT, -1, 1);
    tu_fill_tokens(&rng, y, BATCH * STEPS, OUTPUT);
    seqrnn_batch b = seqrnn_batch_init(BATCH, STEPS);
    b.features = x;
    b.target_classes = y;
    if (seqrnn_trainer_step(trainer, &b, NULL) != SEQRNN_OK)
      _exit(4);
    position++;
    if (seqrnn_trainer_save_checkpoint(trainer, path, position) != SEQRNN_OK)
      _exit(5);
    if (ready) {
      /* Tell the parent the first checkpoint of this life is on disk. */
      if (write(ready_fd, &ready, 1) != 1)
        _exit(6);
      close(ready_fd);
      ready = 0;
    }
  }
}

/* Removes temporary files of interrupted saves; returns how many. */
static int remove_temporaries(void) {
  DIR *dir = opendir(directory);
  if (dir == NULL)
    return 0;
  int count = 0;
  struct dirent *entry;
  char name[800];
  while ((entry = readdir(dir)) != NULL) {
    if (strncmp(entry->d_name, ".kill.ckpt.tmp.", 15) == 0) {
      snprintf(name, sizeof name, "%s/%s", directory, entry->d_name);
      remove(name);
      count++;
    } else {
      CHECK_MSG(strcmp(entry->d_name, ".") == 0 ||
                    strcmp(entry->d_name, "..") == 0 ||
                    strcmp(entry->d_name, "kill.ckpt") == 0,
                "unexpected file %s", entry->d_name);
    }
  }
  closedir(dir);
  return count;
}

/* Loads the checkpoint; returns its data position (-1 on failure). */
static int64_t check_loadable(void) {
  seqrnn_model *model = NULL;
  seqrnn_trainer *trainer = NULL;
  int64_t position = -1, steps = -1;
  if (!EXPECT_OK(
          seqrnn_trainer_load_checkpoint(path, &model, &trainer, &position)))
    return -1;
  EXPECT_OK(seqrnn_trainer_step_count(trainer, &steps));
  CHECK_MSG(steps == position,
            "the step count (%lld) and the position saved "
            "with it (%lld) belong together",
            (long long)steps, (long long)position);
  seqrnn_trainer_free(trainer);
  seqrnn_model_free(model);
  return position;
}

static void test_kill_during_save(void) {
  srand((unsigned)time(NULL) ^ (unsigned)getpid());
  int64_t last = 0;
  int kills = 0, mid_save = 0;
  while (kills < 6 || (mid_save == 0 && kills < 30)) {
    int fds[2];
    if (pipe(fds) != 0) {
      perror("pipe");
      exit(2);
    }
    pid_t pid = fork();
    if (pid < 0) {
      perror("fork");
      exit(2);
    }
    if (pid == 0) {
      close(fds[0]);
      child_loop(fds[1]);
    }
    close(fds[1]);
    char ready = 0;
    ssize_t got = read(fds[0], &ready, 1);
    close(fds[0]);
    if (!CHECK_MSG(got == 1, "the child saved its first checkpoint")) {
      kill(pid, SIGKILL);
      waitpid(pid, NULL, 0);
      return;
    }
    /* Somewhere in the next few saves. */
    struct timespec pause = {0, (long)(rand() % 120000) * 1000L};
    nanosleep(&pause, NULL);
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK_MSG(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
              "the child was killed, not stopped by an error (status %d)",
              status);
    kills++;
    mid_save += remove_temporaries() > 0;
    int64_t position = check_loadable();
    CHECK_MSG(position >= last + 1, "position %lld after %lld",
              (long long)position, (long long)last);
    last = position;
  }
  printf("     %d kills, %d during a save, %lld steps saved in all\n", kills,
         mid_save, (long long)last);
  CHECK_MSG(mid_save > 0, "no kill landed during a save");
}

int main(void) {
  const char *base = getenv("TMPDIR");
  snprintf(directory, sizeof directory, "%s/seqrnn-kill-XXXXXX",
           base != NULL && base[0] != '\0' ? base : "/tmp");
  if (mkdtemp(directory) == NULL) {
    perror("mkdtemp");
    return 2;
  }
  snprintf(path, sizeof path, "%s/kill.ckpt", directory);
  TU_RUN(test_kill_during_save);
  remove_temporaries();
  remove(path);
  rmdir(directory);
  return tu_finish("test_checkpoint_kill");
}
