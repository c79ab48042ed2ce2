/* Static texts the C API hands out: they must outlive every caller, so they
 * live in C string literals rather than in Swift-managed memory. */
#include "seqrnn.h"
#include "seqrnn_support.h"

#define STRINGIFY_(x) #x
#define STRINGIFY(x) STRINGIFY_(x)

const char *srnn_version_text(void) {
  return STRINGIFY(SEQRNN_VERSION_MAJOR) "." STRINGIFY(
      SEQRNN_VERSION_MINOR) "." STRINGIFY(SEQRNN_VERSION_PATCH);
}

const char *srnn_status_text(int code) {
  static const char *const texts[] = {
      "ok",
      "invalid argument",
      "NULL argument",
      "shape mismatch",
      "out of range",
      "non-finite value",
      "out of memory",
      "I/O error",
      "bad file format",
      "unsupported format version",
      "buffer too small",
      "unknown tensor name",
      "unsupported operation",
      "internal error",
  };
  if (code < 0 || code >= (int)(sizeof texts / sizeof texts[0]))
    return "unknown status";
  return texts[code];
}
