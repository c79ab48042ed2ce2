/* Anchors the C target that exposes include/seqrnn.h to Swift. */
#include "seqrnn.h"
