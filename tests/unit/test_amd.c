/* The answering-machine heuristic (media/amd.c) and the beep detector
 * (media/beep.c), fed synthetic 20 ms frames, one tick per frame: what
 * the integration test cannot reach cheaply (interruptions, the beep's
 * frequency range, tones that are not beeps). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "media/amd.h"
#include "media/beep.h"

#define RATE 8000

static long t_sample; /* keeps the phase across frames */

static void tone_frame(int16_t *f, double f1, double f2, double amp)
{
    for (int i = 0; i < MEDIA_FRAME_SAMPLES; i++, t_sample++) {
        double t = (double)t_sample / RATE;
        double v = sin(2 * M_PI * f1 * t) + (f2 > 0 ? sin(2 * M_PI * f2 * t) : 0);
        f[i] = (int16_t)(amp * v / (f2 > 0 ? 2 : 1));
    }
}

static unsigned seed = 7;
static void noise_frame(int16_t *f, double amp)
{
    for (int i = 0; i < MEDIA_FRAME_SAMPLES; i++) {
        seed = seed * 1103515245u + 12345u;
        f[i] = (int16_t)(amp * ((double)(seed >> 8 & 0xFFFF) / 32768.0 - 1.0));
    }
}

/* Frames until a beep is reported (0: none) over `frames` frames. */
static int beep_after(double f1, double f2, int frames)
{
    beep_detector b;
    beep_init(&b);
    int16_t f[MEDIA_FRAME_SAMPLES];
    t_sample = 0;
    for (int i = 1; i <= frames; i++) {
        tone_frame(f, f1, f2, 9000);
        if (beep_frame(&b, f))
            return i;
    }
    return 0;
}

static void beeps_in_range_are_heard_after_200_ms(void **state)
{
    (void)state;
    const double hz[] = {440, 800, 1000, 1012.5, 1400, 1990};
    for (size_t i = 0; i < sizeof hz / sizeof hz[0]; i++) {
        int at = beep_after(hz[i], 0, 50);
        printf("%.1f Hz: beep after %d frames\n", hz[i], at);
        assert_int_equal(at, 10);
    }
}

static void other_sounds_are_not_beeps(void **state)
{
    (void)state;
    assert_int_equal(beep_after(1000, 0, 9), 0);   /* 180 ms: too short */
    assert_int_equal(beep_after(250, 0, 50), 0);   /* below the range */
    assert_int_equal(beep_after(3000, 0, 50), 0);  /* above it */
    assert_int_equal(beep_after(770, 1336, 50), 0); /* DTMF 5: two tones */
    beep_detector b;
    beep_init(&b);
    int16_t f[MEDIA_FRAME_SAMPLES];
    for (int i = 0; i < 100; i++) {
        noise_frame(f, 9000);
        assert_int_equal(beep_frame(&b, f), 0);
    }
    /* a steady tone is one beep, not one per 200 ms */
    beep_init(&b);
    int n = 0;
    t_sample = 0;
    for (int i = 0; i < 100; i++) {
        tone_frame(f, 1000, 0, 9000);
        n += beep_frame(&b, f);
    }
    assert_int_equal(n, 1);
}

typedef enum { QUIET, TALK, BEEP } sound;

/* Feeds `ms` of a sound, one tick per frame; appends each event's name
 * (with the time it came, in ms) to log. */
static void feed(amd *a, sound s, int ms, int64_t *now, char *log, size_t n)
{
    int16_t f[MEDIA_FRAME_SAMPLES];
    for (int i = 0; i < ms / 20; i++) {
        if (s == TALK)
            noise_frame(f, 8000);
        else if (s == BEEP)
            tone_frame(f, 1000, 0, 9000);
        else
            memset(f, 0, sizeof f);
        amd_frame(a, f);
        *now += 20;
        amd_event e = amd_tick(a);
        if (e != AMD_NONE)
            snprintf(log + strlen(log), n - strlen(log), "%s%s@%lld", *log ? "," : "",
                     amd_event_name(e), (long long)*now);
    }
}

static void interruptions_say_not_ready_then_ready_again(void **state)
{
    (void)state;
    amd_params p;
    amd_default_params(&p);
    p.detect_interruptions = 1;
    amd a;
    amd_init(&a, &p);
    char log[256] = "";
    int64_t now = 0;
    feed(&a, QUIET, 500, &now, log, sizeof log);
    feed(&a, TALK, 3000, &now, log, sizeof log);  /* MACHINE 1.25 s into it */
    feed(&a, QUIET, 1500, &now, log, sizeof log); /* READY about 1 s into it */
    feed(&a, TALK, 1000, &now, log, sizeof log);  /* NOT_READY at once */
    feed(&a, QUIET, 300, &now, log, sizeof log);
    feed(&a, BEEP, 500, &now, log, sizeof log);   /* READY 200 ms into the beep */
    feed(&a, QUIET, 2000, &now, log, sizeof log); /* nothing more; still running */
    printf("%s\n", log);
    /* ticks count at their end: the first voiced one is 520, the first
     * quiet one 3520 */
    assert_string_equal(log, "MACHINE@1780,READY@4520,NOT_READY@5020,READY@6500");
    assert_int_equal(a.done, 0);
}

static void words_make_a_machine_too(void **state)
{
    (void)state;
    amd_params p;
    amd_default_params(&p);
    p.machine_voice_threshold_ms = 10000;
    p.machine_words_threshold = 3;
    amd a;
    amd_init(&a, &p);
    char log[256] = "";
    int64_t now = 0;
    for (int w = 0; w < 4; w++) { /* 200 ms words, 200 ms apart */
        feed(&a, TALK, 200, &now, log, sizeof log);
        feed(&a, QUIET, 200, &now, log, sizeof log);
    }
    printf("%s\n", log);
    assert_string_equal(log, "MACHINE@820"); /* the third word's first tick */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(beeps_in_range_are_heard_after_200_ms),
        cmocka_unit_test(other_sounds_are_not_beeps),
        cmocka_unit_test(interruptions_say_not_ready_then_ready_again),
        cmocka_unit_test(words_make_a_machine_too),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
