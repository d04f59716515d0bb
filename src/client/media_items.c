/*
 * relay_media's constructors: one per item type, so that the type word is
 * written once, here, and not by every caller (frames.c turns an item into
 * its wire form).
 */
#include <relay/relay.h>

relay_media relay_media_tts(const char *text)
{
    relay_media m = {.type = "tts", .text = text};
    return m;
}

relay_media relay_media_audio(const char *url)
{
    relay_media m = {.type = "audio", .url = url};
    return m;
}

relay_media relay_media_silence(double seconds)
{
    relay_media m = {.type = "silence", .duration = seconds};
    return m;
}

relay_media relay_media_ringtone(const char *name, double seconds)
{
    relay_media m = {.type = "ringtone", .name = name, .duration = seconds};
    return m;
}
