#include "router.h"

#include "session.h"

session *router_pick(relayd *rd, const char *context)
{
    if (!context)
        return NULL;
    size_t n = 0;
    for (session *s = rd->sessions; s; s = s->next)
        if (s->conn && session_has_context(s, context))
            n++;
    if (n == 0)
        return NULL;
    size_t want = rd->route_counter++ % n;
    for (session *s = rd->sessions; s; s = s->next)
        if (s->conn && session_has_context(s, context) && want-- == 0)
            return s;
    return NULL;
}
