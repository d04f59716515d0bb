/*
 * G.711 companding (ITU-T G.711), written from the segment description in
 * the recommendation: the magnitude is split into 8 power-of-two segments
 * ("chords"), each with 16 uniform steps. Decoding returns the middle of the
 * step, so the quantisation error is at most half a step.
 *
 * The standard works on 14-bit (mu-law) and 13-bit (A-law) linear samples;
 * we take 16-bit samples and scale.
 */
#include "media/rtp.h"

/* Index of the highest set bit of v (v > 0). */
static int top_bit(unsigned v)
{
    int b = 0;
    while (v >>= 1)
        b++;
    return b;
}

/*
 * mu-law: magnitude m (14 bits) plus a bias of 33 is at most 0x2000; the
 * segment is the position of its top bit above bit 5, the 4 step bits follow
 * the top bit. Bits are transmitted inverted.
 */
enum { ULAW_BIAS = 33, ULAW_MAX = 0x1FFF - ULAW_BIAS };

uint8_t g711_linear_to_ulaw(int16_t pcm)
{
    int v = pcm >> 2; /* 16 -> 14 bits */
    uint8_t sign = 0;
    if (v < 0) {
        v = -v;
        sign = 0x80;
    }
    if (v > ULAW_MAX)
        v = ULAW_MAX;
    v += ULAW_BIAS;                         /* 33 .. 0x1FFF: top bit 5 .. 12 */
    int seg = top_bit((unsigned)v) - 5;     /* 0 .. 7 */
    int step = (v >> (seg + 1)) & 0x0F;
    return (uint8_t)~(sign | (seg << 4) | step);
}

int16_t g711_ulaw_to_linear(uint8_t u)
{
    u = (uint8_t)~u;
    int seg = (u >> 4) & 0x07;
    int step = u & 0x0F;
    /* middle of the step, minus the bias, back in 14 bits */
    int v = (((step << 1) | 0x21) << seg) - ULAW_BIAS;
    v <<= 2;
    return (int16_t)((u & 0x80) ? -v : v);
}

/*
 * A-law: 13-bit magnitude; segment 0 and 1 share a step size of 2 (in 13-bit
 * units), each further segment doubles it. Even bits are inverted (XOR 0x55),
 * and a set sign bit means positive.
 */
uint8_t g711_linear_to_alaw(int16_t pcm)
{
    int v = pcm >> 3; /* 16 -> 13 bits */
    uint8_t sign = 0x80;
    if (v < 0) {
        v = -v - 1; /* one's complement, as the standard's reference does */
        sign = 0;
    }
    if (v > 0xFFF)
        v = 0xFFF;
    int seg, step;
    if (v < 32) {
        seg = 0;
        step = v >> 1;
    } else {
        seg = top_bit((unsigned)v) - 4; /* 1 .. 7 */
        step = (v >> seg) & 0x0F;
    }
    return (uint8_t)((sign | (seg << 4) | step) ^ 0x55);
}

int16_t g711_alaw_to_linear(uint8_t a)
{
    a ^= 0x55;
    int seg = (a >> 4) & 0x07;
    int step = a & 0x0F;
    int v;
    if (seg == 0)
        v = (step << 1) | 1;
    else
        v = ((step << 1) | 0x21) << (seg - 1);
    v <<= 3;
    /* decoded positive magnitudes are v; negative ones mirror the one's
     * complement in the encoder */
    return (int16_t)((a & 0x80) ? v : -v);
}
