/* Time for tests against real processes: a monotonic clock in ms and a
 * plain sleep. Shared by the integration tests. */
#ifndef RELAY_TESTS_TEST_TIME_H
#define RELAY_TESTS_TEST_TIME_H

#include <stdint.h>

int64_t now_ms(void); /* CLOCK_MONOTONIC */
void sleep_ms(int ms);

#endif
