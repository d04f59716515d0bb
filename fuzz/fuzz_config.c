/* relayd's configuration file parser (config.c) and its checks, on any
 * file content: the input becomes an in-memory file named by --config. */
#define _GNU_SOURCE /* memfd_create */
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = memfd_create("relayd-fuzz.conf", MFD_CLOEXEC);
    if (fd < 0)
        return 0;
    if (write(fd, data, size) != (ssize_t)size) {
        close(fd);
        return 0;
    }
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    char *argv[] = {"relayd", "--config", path, NULL};
    relayd_config cfg;
    char err[4096];
    if (config_load(&cfg, 3, argv, err, sizeof err) == 0)
        config_validate(&cfg, err, sizeof err);
    config_free(&cfg);
    close(fd);
    return 0;
}
