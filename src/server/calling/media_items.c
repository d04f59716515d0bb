/* Media items → media sources: what calling.play and
 * calling.play_and_collect share (see media_items.h). */
#include "calling/media_items.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "media/fetch.h"
#include "media/source_tone.h"

#define MAX_TTS_TEXT 4096

/* A ringtone item's params: a known name, an optional duration. The reason
 * for an unknown name lists the known ones (built once: static text). */
static const char *ringtone_invalid(json_t *p)
{
    static char unknown[160];
    if (!unknown[0])
        snprintf(unknown, sizeof unknown, "ringtone needs params.name, one of: %s",
                 media_ringtone_names());
    if (!media_ringtone_find(json_string_value(json_object_get(p, "name"))))
        return unknown;
    json_t *d = json_object_get(p, "duration");
    if (d && !(json_is_number(d) && json_number_value(d) > 0 &&
               json_number_value(d) <= RINGTONE_MAX_SECONDS))
        return "ringtone params.duration must be between 0 and 300 seconds";
    return NULL;
}

/* Checks one media item without building it. */
static const char *item_invalid(relayd *rd, json_t *item)
{
    const char *type = json_string_value(json_object_get(item, "type"));
    json_t *p = json_object_get(item, "params");
    if (!type || !json_is_object(p))
        return "each play item needs a type and params";
    if (strcmp(type, "tts") == 0) {
        const char *text = json_string_value(json_object_get(p, "text"));
        if (!text || !*text || strlen(text) > MAX_TTS_TEXT)
            return "tts needs params.text (1 to 4096 characters)";
        return NULL;
    }
    if (strcmp(type, "silence") == 0) {
        double d = json_number_value(json_object_get(p, "duration"));
        return (d > 0 && d <= 3600) ? NULL : "silence needs params.duration (seconds)";
    }
    if (strcmp(type, "audio") == 0)
        return media_url_invalid(json_string_value(json_object_get(p, "url")),
                                 rd->cfg->media_dir != NULL);
    if (strcmp(type, "ringtone") == 0)
        return ringtone_invalid(p);
    return "unknown play item type";
}

const char *media_items_invalid(relayd *rd, json_t *items)
{
    if (!json_is_array(items) || json_array_size(items) == 0 ||
        json_array_size(items) > MEDIA_ITEMS_MAX)
        return "play must be an array of 1 to 32 media items";
    size_t i;
    json_t *item;
    json_array_foreach(items, i, item)
    {
        const char *why = item_invalid(rd, item);
        if (why)
            return why;
    }
    return NULL;
}

/* preparation pool */
static media_source *build_source(relayd *rd, json_t *item, const char **err)
{
    const char *type = json_string_value(json_object_get(item, "type"));
    json_t *p = json_object_get(item, "params");
    if (strcmp(type, "audio") == 0)
        return media_fetch_source(rd->fetch, json_string_value(json_object_get(p, "url")), err);
    if (strcmp(type, "ringtone") == 0)
        return media_source_ringtone(json_string_value(json_object_get(p, "name")),
                                     json_number_value(json_object_get(p, "duration")), err);
    if (strcmp(type, "tts") == 0)
        return media_source_tts(json_string_value(json_object_get(p, "text")),
                                json_string_value(json_object_get(p, "language")),
                                json_string_value(json_object_get(p, "voice")), err);
    media_source *s = media_source_silence(json_number_value(json_object_get(p, "duration")));
    if (!s)
        *err = "out of memory";
    return s;
}

media_source **media_items_build(relayd *rd, json_t *items, size_t *n, const char **err)
{
    size_t count = json_array_size(items);
    *n = 0;
    media_source **sources = calloc(count ? count : 1, sizeof *sources);
    if (!sources) {
        *err = "out of memory";
        return NULL;
    }
    for (size_t i = 0; i < count && !*err; i++) {
        sources[i] = build_source(rd, json_array_get(items, i), err);
        if (!sources[i] && !*err)
            *err = "could not prepare media";
        *n = i + 1;
    }
    return sources;
}

void media_items_free(media_source **sources, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (sources[i])
            sources[i]->destroy(sources[i]);
    free(sources);
}

int media_items_volume(json_t *params, int required, double *db)
{
    json_t *v = json_object_get(params, "volume");
    if (!v) {
        *db = 0;
        return required ? -1 : 0;
    }
    *db = json_number_value(v);
    return json_is_number(v) && isfinite(*db) && *db >= -40 && *db <= 40 ? 0 : -1;
}
