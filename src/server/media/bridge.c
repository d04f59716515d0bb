/*
 * Bridge pipes: a sink (producer, on the sending leg's media thread) and a
 * source (consumer, on the receiving leg's) around one ring. Ownership:
 * the pipe is freed by whichever of the two lets go last (the session
 * calls the sink's on_detach, the player destroys its source), so the core
 * never has to wait for either media thread.
 */
#include "media/bridge.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "media/frame_ring.h"
#include "media/player.h"

typedef struct media_pipe {
    media_sink sink;   /* on the sending leg */
    media_source src;  /* played on the receiving leg */
    atomic_int holders; /* the sink (until on_detach) and the source (until destroy) */
    frame_ring ring;    /* the sink's thread puts, the source's gets */
} media_pipe;

struct media_bridge {
    media_session *a, *b;
    media_pipe *a_to_b, *b_to_a;
    media_player *play_a, *play_b; /* b_to_a's source on a, a_to_b's on b */
};

static void pipe_unhold(media_pipe *p)
{
    if (atomic_fetch_sub(&p->holders, 1) == 1)
        free(p);
}

/* media thread of the sending leg */
static void pipe_on_frame(media_sink *sink, const int16_t pcm[MEDIA_FRAME_SAMPLES],
                          media_direction dir)
{
    media_pipe *p = (media_pipe *)sink;
    if (dir != MEDIA_DIR_RX)
        return; /* what we send this leg is the other leg's audio already */
    frame_ring_put(&p->ring, pcm);
}

static void pipe_on_detach(media_sink *sink) { pipe_unhold((media_pipe *)sink); }

static media_pipe *pipe_of(media_source *src)
{
    return (media_pipe *)((char *)src - offsetof(media_pipe, src));
}

/* media thread of the receiving leg: one frame per tick, silence when the
 * other side sent nothing. Never ends: the bridge stops the play. */
static int pipe_read(media_source *src, int16_t frame[MEDIA_FRAME_SAMPLES])
{
    frame_ring_get(&pipe_of(src)->ring, frame);
    return 1;
}

static void pipe_destroy(media_source *src) { pipe_unhold(pipe_of(src)); }

static media_pipe *pipe_new(void)
{
    media_pipe *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->sink.on_frame = pipe_on_frame;
    p->sink.on_detach = pipe_on_detach;
    p->src.read = pipe_read;
    p->src.destroy = pipe_destroy;
    atomic_init(&p->holders, 2);
    return p;
}

/* The bridge's plays end only when stopped; nobody waits for that. */
static void play_done(media_player *p, media_play_end how, void *user)
{
    (void)p;
    (void)how;
    (void)user;
}

/* Plays pipe's source on s (the player owns the source from here). */
static media_player *play_pipe(media_session *s, media_pipe *p)
{
    media_source **srcs = malloc(sizeof *srcs);
    if (!srcs) {
        pipe_unhold(p);
        return NULL;
    }
    srcs[0] = &p->src;
    return media_player_start(s, srcs, 1, 0, 0, play_done, NULL);
}

media_bridge *media_bridge_start(media_session *a, media_session *b)
{
    media_bridge *br = calloc(1, sizeof *br);
    if (!br)
        return NULL;
    br->a = a;
    br->b = b;
    br->a_to_b = pipe_new();
    br->b_to_a = pipe_new();
    if (!br->a_to_b || !br->b_to_a) {
        free(br->a_to_b);
        free(br->b_to_a);
        free(br);
        return NULL;
    }
    /* the players own the sources' holds; the sinks' go with on_detach */
    br->play_b = play_pipe(b, br->a_to_b);
    br->play_a = play_pipe(a, br->b_to_a);
    media_session_attach_sink(a, &br->a_to_b->sink);
    media_session_attach_sink(b, &br->b_to_a->sink);
    return br;
}

void media_bridge_stop(media_bridge *br)
{
    if (!br)
        return;
    media_session_detach_sink(br->a, &br->a_to_b->sink);
    media_session_detach_sink(br->b, &br->b_to_a->sink);
    if (br->play_a) {
        media_player_stop(br->play_a);
        media_player_free(br->play_a);
    }
    if (br->play_b) {
        media_player_stop(br->play_b);
        media_player_free(br->play_b);
    }
    free(br);
}
