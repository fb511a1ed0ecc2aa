/* termios on the console, one mode per run (tests/test_shell.py reads what it prints):
   defaults  the settings TCGETS gives, and how many bytes it writes
   notty     tcgetattr, tcsetattr and isatty on a pipe and on a file: ENOTTY
   vmin      non-canonical, VMIN 5: one read waits for five characters; VMIN 0 VTIME 0 polls
   noecho    canonical without ECHO: a line is read but not shown
   raw       cfmakeraw: ^C and CR arrive as bytes, no signal, no translation
   badptr    TCGETS and TCSETS with a bad pointer: EFAULT */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

static void show(const char *what, const char *buf, ssize_t n)
{
    printf("%s %ld:", what, (long)n);
    for (ssize_t i = 0; i < n; i++)
        printf(" %d", (unsigned char)buf[i]);
    printf("\n");
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    struct termios t, saved;
    char buf[64];
    if (strcmp(mode, "defaults") == 0) {
        memset(&t, 0xAA, sizeof t);
        if (ioctl(0, TCGETS, &t) < 0)
            return 1;
        int written = 0;
        for (unsigned i = 0; i < sizeof t; i++)
            if (((unsigned char *)&t)[i] != 0xAA)
                written = i + 1;
        printf("iflag %o oflag %o cflag %o lflag %o line %d\n", t.c_iflag, t.c_oflag, t.c_cflag,
               t.c_lflag, t.c_line);
        printf("intr %d quit %d erase %d kill %d eof %d time %d min %d werase %d susp %d\n",
               t.c_cc[VINTR], t.c_cc[VQUIT], t.c_cc[VERASE], t.c_cc[VKILL], t.c_cc[VEOF],
               t.c_cc[VTIME], t.c_cc[VMIN], t.c_cc[VWERASE], t.c_cc[VSUSP]);
        printf("written %d cc19 %d\n", written, t.c_cc[19]);
        return 0;
    }
    if (strcmp(mode, "notty") == 0) {
        int p[2];
        pipe(p);
        int f = open("/tmp/termios.txt", O_RDWR | O_CREAT, 0644);
        tcgetattr(0, &t);
        int fds[] = { p[0], f };
        for (int i = 0; i < 2; i++) {
            errno = 0;
            int g = tcgetattr(fds[i], &saved);
            int ge = errno;
            errno = 0;
            int s = tcsetattr(fds[i], TCSANOW, &t);
            int se = errno;
            printf("%s get %d %s set %d %s isatty %d\n", i ? "file" : "pipe", g, strerror(ge), s,
                   strerror(se), isatty(fds[i]));
        }
        errno = 0;
        printf("when %d %s\n", tcsetattr(0, 7, &t), strerror(errno));
        return 0;
    }
    tcgetattr(0, &saved);
    t = saved;
    if (strcmp(mode, "vmin") == 0) {
        t.c_lflag &= ~(ICANON | ECHO);
        t.c_cc[VMIN] = 5;
        t.c_cc[VTIME] = 0;
        tcsetattr(0, TCSANOW, &t);
        show("vmin5", buf, read(0, buf, sizeof buf));
        t.c_cc[VMIN] = 0;
        tcsetattr(0, TCSANOW, &t);
        show("poll", buf, read(0, buf, sizeof buf));
    } else if (strcmp(mode, "noecho") == 0) {
        t.c_lflag &= ~ECHO;
        tcsetattr(0, TCSAFLUSH, &t);
        show("noecho", buf, read(0, buf, sizeof buf));
    } else if (strcmp(mode, "raw") == 0) {
        cfmakeraw(&t);
        tcsetattr(0, TCSANOW, &t);
        show("raw", buf, read(0, buf, sizeof buf));
    } else if (strcmp(mode, "badptr") == 0) {
        errno = 0;
        int g = ioctl(0, TCGETS, (void *)8);
        int ge = errno;
        errno = 0;
        int s = ioctl(0, TCSETS, (void *)8);
        printf("get %d %s set %d %s\n", g, strerror(ge), s, strerror(errno));
    }
    tcsetattr(0, TCSANOW, &saved);
    return 0;
}
