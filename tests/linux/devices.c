/* The usual device files: /dev/null, /dev/zero, /dev/urandom, /dev/random, /dev/tty,
 * /dev/stdout, and /etc/passwd lookups. */
#include <fcntl.h>
#include <pwd.h>
#include <grp.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "linux.h"

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    char buf[64];
    int fd = open("/dev/null", O_RDWR);
    if (CHECK("open /dev/null", fd >= 0)) {
        printf("write to /dev/null: %zd, read: %zd\n", write(fd, "gone", 4), read(fd, buf, sizeof buf));
        struct stat st;
        fstat(fd, &st);
        printf("/dev/null is a character device: %d\n", S_ISCHR(st.st_mode));
        close(fd);
    }
    fd = open("/dev/zero", O_RDONLY);
    if (CHECK("open /dev/zero", fd >= 0)) {
        memset(buf, 1, sizeof buf);
        ssize_t n = read(fd, buf, sizeof buf);
        int zero = 1;
        for (int i = 0; i < 64; i++)
            zero &= buf[i] == 0;
        printf("read /dev/zero: %zd bytes, all zero %d\n", n, zero);
        close(fd);
    }
    const char *rnd[] = {"/dev/urandom", "/dev/random"};
    for (int k = 0; k < 2; k++) {
        fd = open(rnd[k], O_RDONLY);
        if (fd < 0) {
            printf("open %s: %s\n", rnd[k], errname(errno));
            continue;
        }
        memset(buf, 0, sizeof buf);
        ssize_t n = read(fd, buf, 32);
        int nonzero = 0;
        for (int i = 0; i < 32; i++)
            nonzero |= buf[i];
        printf("read %s: %zd bytes, not all zero %d\n", rnd[k], n, nonzero != 0);
        close(fd);
    }
    FILE *f = fopen("/dev/stdout", "a");
    if (f) {
        fprintf(f, "written through /dev/stdout\n");
        fclose(f);
    } else {
        printf("open /dev/stdout: %s\n", errname(errno));
    }
    errno = 0;
    struct passwd *pw = getpwnam("root");
    printf("getpwnam(root): %s", pw ? "found" : "not found");
    if (pw)
        printf(", uid %d, home %s", (int)pw->pw_uid, pw->pw_dir);
    printf("\n");
    struct group *gr = getgrgid(0);
    printf("getgrgid(0): %s\n", gr ? gr->gr_name : "not found");
    puts("done");
    return 0;
}
