/* relayd's process-wide log: one sink, scrubbed (common/log.h). */
#ifndef RELAYD_SERVER_LOG_H
#define RELAYD_SERVER_LOG_H

#include "common/log.h"

extern log_sink server_log_sink;

#define server_log(level, ...) log_write(&server_log_sink, (level), __VA_ARGS__)

#endif
