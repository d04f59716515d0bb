/* auth/login_penalty: the delay a failing address earns, and its bounds. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <cmocka.h>

#include "auth/login_penalty.h"

static void delays_double_up_to_the_maximum(void **state)
{
    (void)state;
    login_penalty *p = login_penalty_new();
    assert_non_null(p);
    int want[] = {0, 0, 0, 250, 500, 1000, 2000, 4000, 5000, 5000};
    for (int i = 0; i < 10; i++) {
        assert_int_equal(login_penalty_delay(p, "10.0.0.1", 1000 + i, 5000), want[i]);
        login_penalty_failed(p, "10.0.0.1", 1000 + i);
    }
    /* another address is untouched; 0 turns it off */
    assert_int_equal(login_penalty_delay(p, "10.0.0.2", 2000, 5000), 0);
    assert_int_equal(login_penalty_delay(p, "10.0.0.1", 2000, 0), 0);
    /* a minute without failures forgets; a success clears */
    assert_int_equal(login_penalty_delay(p, "10.0.0.1", 1009 + LOGIN_PENALTY_WINDOW_MS + 1, 5000), 0);
    login_penalty_succeeded(p, "10.0.0.1");
    assert_int_equal(login_penalty_delay(p, "10.0.0.1", 2000, 5000), 0);
    login_penalty_free(p);
}

static void many_addresses_cannot_grow_it_and_the_stalest_goes(void **state)
{
    (void)state;
    login_penalty *p = login_penalty_new();
    for (int k = 0; k < 5; k++)
        login_penalty_failed(p, "192.0.2.1", 100); /* penalised, and old */
    char addr[64];
    for (int i = 0; i < 3 * LOGIN_PENALTY_SLOTS; i++) {
        snprintf(addr, sizeof addr, "198.51.%d.%d", i / 256, i % 256);
        for (int k = 0; k < LOGIN_FREE_FAILURES; k++)
            login_penalty_failed(p, addr, 1000 + i);
    }
    /* the old one was replaced; the newest are all remembered */
    assert_int_equal(login_penalty_delay(p, "192.0.2.1", 5000, 5000), 0);
    int i = 3 * LOGIN_PENALTY_SLOTS - 1;
    snprintf(addr, sizeof addr, "198.51.%d.%d", i / 256, i % 256);
    assert_int_equal(login_penalty_delay(p, addr, 5000, 5000), 250);
    login_penalty_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(delays_double_up_to_the_maximum),
        cmocka_unit_test(many_addresses_cannot_grow_it_and_the_stalest_goes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
