/*
 * lamb-init: PID 1 of an execution environment's PID namespace.
 *
 * On AWS the runtime is not PID 1: the sandbox's init reaps orphaned
 * processes, so zombies never pile up against the process quota, and when
 * it ends every process of the environment ends with it. This is that init,
 * as a few kilobytes of C instead of a fork of the Python zygote (which cost
 * ~1 ms of every cold start and ~1 MB of copied pages per environment).
 *
 *   lamb-init <cgroup.procs file>...
 *
 * Run by the zygote (posix_spawn, so nothing is copied). It joins the
 * environment's cgroups, then clones PID 1 of a new PID namespace as a child
 * of the zygote itself (CLONE_PARENT), writes that child's pid to stdout and
 * exits. The zygote then forks the runtime into the namespace (setns on a
 * pidfd). PID 1 does nothing but reap; it dies with the zygote
 * (PR_SET_PDEATHSIG) and is killed by it when the runtime ends, which ends
 * the namespace and every process left in it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int write_all(int fd, const char *buf, size_t len) {
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

static void reap_forever(void) {
    sigset_t set;
    sigfillset(&set);
    sigprocmask(SIG_BLOCK, &set, NULL); /* PID 1: nothing from inside can stop it */
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    for (;;) {
        while (waitpid(-1, NULL, WNOHANG) > 0)
            ;
        sigwaitinfo(&set, NULL);
    }
}

int main(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        int fd = open(argv[i], O_WRONLY | O_CLOEXEC);
        if (fd < 0 || write_all(fd, "0", 1) < 0) {
            dprintf(2, "lamb-init: join %s: %s\n", argv[i], strerror(errno));
            return 1;
        }
        close(fd);
    }
    long pid = syscall(SYS_clone, CLONE_NEWPID | CLONE_PARENT | SIGCHLD, 0, 0, 0, 0);
    if (pid < 0) {
        dprintf(2, "lamb-init: clone: %s\n", strerror(errno));
        return 1;
    }
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        prctl(PR_SET_NAME, "lamb-init");
        int null = open("/dev/null", O_RDWR);
        for (int fd = 0; fd < 3; fd++)
            dup2(null, fd);
        syscall(SYS_close_range, 3, ~0U, 0);
        reap_forever();
    }
    char out[32];
    int n = snprintf(out, sizeof out, "%ld\n", pid);
    return write_all(1, out, (size_t)n) < 0;
}
