#include "trace/trace-hw_net_hsnic.h"
