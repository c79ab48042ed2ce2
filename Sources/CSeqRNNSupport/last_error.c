/* Thread-local storage for seqrnn_last_error(): each thread sees the message
 * of its own last failure, so concurrent callers never read each other's. */
#include "seqrnn_support.h"

#include <string.h>

static _Thread_local char last_error[1024];

void srnn_error_set(const char *message) {
  if (message == NULL) {
    last_error[0] = '\0';
    return;
  }
  strncpy(last_error, message, sizeof last_error - 1);
  last_error[sizeof last_error - 1] = '\0';
}

const char *srnn_error_get(void) { return last_error; }
