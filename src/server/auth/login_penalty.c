#include "auth/login_penalty.h"

#include <stdlib.h>
#include <string.h>

typedef struct slot {
    char addr[64]; /* "" when free */
    int failures;
    int64_t last;  /* core_now_ms of the latest failure */
} slot;

struct login_penalty {
    slot slots[LOGIN_PENALTY_SLOTS];
};

login_penalty *login_penalty_new(void)
{
    return calloc(1, sizeof(login_penalty));
}

void login_penalty_free(login_penalty *p)
{
    free(p);
}

static slot *find(const login_penalty *p, const char *addr)
{
    for (size_t i = 0; i < LOGIN_PENALTY_SLOTS; i++)
        if (p->slots[i].addr[0] && strcmp(p->slots[i].addr, addr) == 0)
            return (slot *)&p->slots[i];
    return NULL;
}

void login_penalty_failed(login_penalty *p, const char *addr, int64_t now)
{
    if (!p || !addr || !*addr)
        return;
    slot *s = find(p, addr);
    if (!s) { /* a free slot, or the one that failed longest ago */
        s = &p->slots[0];
        for (size_t i = 0; i < LOGIN_PENALTY_SLOTS && s->addr[0]; i++)
            if (!p->slots[i].addr[0] || p->slots[i].last < s->last)
                s = &p->slots[i];
        memset(s, 0, sizeof *s);
        strncpy(s->addr, addr, sizeof s->addr - 1);
    }
    if (now - s->last > LOGIN_PENALTY_WINDOW_MS)
        s->failures = 0;
    s->failures++;
    s->last = now;
}

void login_penalty_succeeded(login_penalty *p, const char *addr)
{
    slot *s = p && addr ? find(p, addr) : NULL;
    if (s)
        memset(s, 0, sizeof *s);
}

int login_penalty_delay(const login_penalty *p, const char *addr, int64_t now, int max_ms)
{
    const slot *s = p && addr && max_ms > 0 ? find(p, addr) : NULL;
    if (!s || now - s->last > LOGIN_PENALTY_WINDOW_MS || s->failures < LOGIN_FREE_FAILURES)
        return 0;
    int extra = s->failures - LOGIN_FREE_FAILURES; /* 0 for the first penalised try */
    int64_t d = LOGIN_PENALTY_BASE_MS;
    while (extra-- > 0 && d < max_ms)
        d *= 2;
    return d > max_ms ? max_ms : (int)d;
}
