// The umbrella header of the CVQKernels module: every public header of the C kernels. Listing them here
// (instead of SwiftPM's umbrella directory) makes adding a header change this file, which rebuilds the
// module in existing build folders; with an umbrella directory a cached module silently lacked a new
// header ("cannot find 'cvq_…' in scope" until the ModuleCache was deleted).
#include "cvq_asq.h"
#include "cvq_dot.h"
#include "cvq_fastscan.h"
#include "cvq_kernels.h"
#include "cvq_rabitq.h"
