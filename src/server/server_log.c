#include "server_log.h"

log_sink server_log_sink = {.fn = NULL, .user = NULL, .level = RELAY_LOG_INFO, .prefix = "relayd"};
