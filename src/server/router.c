#include "router.h"

#include "session.h"

static int eligible(const session *s, const char *context, router_filter keep, void *arg)
{
    return s->conn && session_has_context(s, context) && (!keep || keep(s, arg));
}

session *router_pick_filtered(relayd *rd, const char *context, router_filter keep, void *arg)
{
    if (!context)
        return NULL;
    size_t n = 0;
    for (session *s = rd->sessions; s; s = s->next)
        n += eligible(s, context, keep, arg);
    if (n == 0)
        return NULL;
    size_t want = rd->route_counter++ % n;
    for (session *s = rd->sessions; s; s = s->next)
        if (eligible(s, context, keep, arg) && want-- == 0)
            return s;
    return NULL;
}

session *router_pick(relayd *rd, const char *context)
{
    return router_pick_filtered(rd, context, NULL, NULL);
}
