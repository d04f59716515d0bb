#include "g711_oracle.h"

int ulaw_to_linear(unsigned char u)
{
    u = (unsigned char)~u;
    int t = (((u & 0x0f) << 3) + 0x84) << ((u & 0x70) >> 4);
    return (u & 0x80) ? 0x84 - t : t - 0x84;
}

int alaw_to_linear(unsigned char a)
{
    a ^= 0x55;
    int exp = (a & 0x70) >> 4, mant = a & 0x0f;
    int v = exp ? ((mant << 4) + 0x108) << (exp - 1) : (mant << 4) + 8;
    return (a & 0x80) ? v : -v;
}

unsigned char linear_to_ulaw(int v)
{
    int sign = v < 0 ? 0x80 : 0;
    if (v < 0)
        v = -v;
    if (v > 32635)
        v = 32635;
    v += 0x84;
    int exp = 7;
    for (int mask = 0x4000; !(v & mask) && exp > 0; mask >>= 1)
        exp--;
    int mant = (v >> (exp + 3)) & 0x0f;
    return (unsigned char)~(sign | exp << 4 | mant);
}

unsigned char linear_to_alaw(int v)
{
    int sign = v >= 0 ? 0x80 : 0;
    if (v < 0)
        v = -v - 1;
    if (v > 32767)
        v = 32767;
    int exp = 7;
    for (int mask = 0x4000; !(v & mask) && exp > 0; mask >>= 1)
        exp--;
    int mant = exp ? (v >> (exp + 3)) & 0x0f : (v >> 4) & 0x0f;
    return (unsigned char)((sign | exp << 4 | mant) ^ 0x55);
}
