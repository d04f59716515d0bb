#include "ulaw.h"

int ulaw_to_linear(unsigned char u)
{
    u = (unsigned char)~u;
    int t = (((u & 0x0f) << 3) + 0x84) << ((u & 0x70) >> 4);
    return (u & 0x80) ? 0x84 - t : t - 0x84;
}
