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

#include "media/player.h"

/* 16 frames (320 ms): room for the burst a media thread reads when it
 * catches up after a stall (it re-anchors past 200 ms, see session.c), so
 * a stall costs delay for a moment rather than audio. */
#define PIPE_FRAMES 16
/* The delay a bridge settles at. A backlog above PIPE_KEEP frames that
 * stands for STANDING_TICKS is cut back, the way a jitter buffer adapts:
 * quiet frames go first, one a tick, so speech loses nothing; at
 * PIPE_HARD frames (200 ms) the oldest go whatever they hold. A burst
 * that the consumer's own catch-up ticks drain loses nothing. Standing
 * backlogs come from the two legs' media threads stalling at different
 * moments (each stall of the sending leg's thread leaves one frame more
 * queued) and from peers whose clocks run fast. */
#define PIPE_KEEP 3
#define PIPE_HARD 10
#define STANDING_TICKS 25
/* Mean magnitude under which a frame counts as quiet (about -45 dBFS). */
#define QUIET_LEVEL 180
typedef struct media_pipe {
    media_sink sink;   /* on the sending leg */
    media_source src;  /* played on the receiving leg */
    atomic_int holders; /* the sink (until on_detach) and the source (until destroy) */
    atomic_uint head;   /* written by the sink's thread only */
    atomic_uint tail;   /* written by the source's thread only */
    unsigned over;      /* source's thread: ticks in a row above PIPE_KEEP */
    int16_t ring[PIPE_FRAMES][MEDIA_FRAME_SAMPLES];
    uint8_t quiet[PIPE_FRAMES]; /* written with its frame, by the sink */
} media_pipe;

struct media_bridge {
    media_session *a, *b;
    media_pipe *a_to_b, *b_to_a;
    media_player *play_a, *play_b; /* b_to_a's source on a, a_to_b's on b */
};

/* Frames every bridge let go (a full ring, or the oldest skipped to keep
 * the delay down), for the exit log and the metrics. */
static _Atomic uint64_t frames_dropped;

uint64_t media_bridge_frames_dropped(void) { return atomic_load(&frames_dropped); }

static void drop(unsigned n) { atomic_fetch_add_explicit(&frames_dropped, n, memory_order_relaxed); }

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
    unsigned head = atomic_load_explicit(&p->head, memory_order_relaxed);
    unsigned tail = atomic_load_explicit(&p->tail, memory_order_acquire);
    if (head - tail >= PIPE_FRAMES) {
        drop(1);
        return; /* full: the consumer catches up by skipping, see pipe_read */
    }
    memcpy(p->ring[head % PIPE_FRAMES], pcm, sizeof p->ring[0]);
    long level = 0;
    for (int i = 0; i < MEDIA_FRAME_SAMPLES; i++)
        level += pcm[i] < 0 ? -pcm[i] : pcm[i];
    p->quiet[head % PIPE_FRAMES] = level < (long)QUIET_LEVEL * MEDIA_FRAME_SAMPLES;
    atomic_store_explicit(&p->head, head + 1, memory_order_release);
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
    media_pipe *p = pipe_of(src);
    unsigned tail = atomic_load_explicit(&p->tail, memory_order_relaxed);
    unsigned head = atomic_load_explicit(&p->head, memory_order_acquire);
    if (head == tail) {
        memset(frame, 0, sizeof p->ring[0]);
        return 1;
    }
    if (head - tail <= PIPE_KEEP) {
        p->over = 0;
    } else if (++p->over >= STANDING_TICKS) {
        if (head - tail >= PIPE_HARD) {
            drop(head - tail - PIPE_KEEP);
            tail = head - PIPE_KEEP;
            p->over = 0;
        } else if (p->quiet[tail % PIPE_FRAMES]) {
            drop(1);
            tail++; /* head - tail stays above PIPE_KEEP: a frame to play */
        }
    }
    memcpy(frame, p->ring[tail % PIPE_FRAMES], sizeof p->ring[0]);
    atomic_store_explicit(&p->tail, tail + 1, memory_order_release);
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
