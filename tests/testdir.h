/* testdir.h - the temporary folders tests work in: one per test group, under /tmp, removed with
 * everything in it afterwards. Header-only: each test is its own program. */
#ifndef PLANBOT_TESTDIR_H
#define PLANBOT_TESTDIR_H

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Removes path and, for a folder, all it holds (also folders a test made unreadable). */
static inline void testdir_remove(const char *path)
{
    struct stat sb;
    if (lstat(path, &sb))
        return;
    if (!S_ISDIR(sb.st_mode)) {
        unlink(path);
        return;
    }
    chmod(path, 0700);
    DIR *d = opendir(path);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            char child[4096];
            int n = snprintf(child, sizeof child, "%s/%s", path, e->d_name);
            if (n > 0 && (size_t)n < sizeof child)
                testdir_remove(child);
        }
        closedir(d);
    }
    rmdir(path);
}

#endif
