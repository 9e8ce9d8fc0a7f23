/* SPDX-License-Identifier: GPL-2.0-only */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pager.h"
#include "util.h"

static pid_t pager_pid;

static const char *pager_command(void) {
	const char *p = getenv("SYSTEMD_PAGER");

	if (!p)
		p = getenv("PAGER");
	return p;
}

/* The pager in the child: the one asked for, else less, else more; else it
 * copies as cat would, so that nothing is lost. */
static _Noreturn void pager_exec(const char *command) {
	char buf[4096];
	ssize_t n;

	if (command)
		execl("/bin/sh", "sh", "-c", command, (char *) NULL);
	execlp("less", "less", (char *) NULL);
	execlp("more", "more", (char *) NULL);
	while ((n = read(STDIN_FILENO, buf, sizeof(buf))) > 0)
		if (write(STDOUT_FILENO, buf, (size_t) n) != n)
			break;
	_exit(EXIT_SUCCESS);
}

int pager_open(void) {
	const char *command = pager_command();
	int fd[2];

	if (!isatty(STDOUT_FILENO) || (command && (isempty(command) || streq(command, "cat"))))
		return 0;
	if (pipe2(fd, O_CLOEXEC) < 0)
		return log_error_errno(errno, "Failed to create a pipe to the pager: %m");
	fflush(stdout);
	pager_pid = fork();
	if (pager_pid < 0) {
		int r = -errno;

		close(fd[0]);
		close(fd[1]);
		return log_error_errno(r, "Failed to start the pager: %m");
	}
	if (pager_pid == 0) {
		if (dup2(fd[0], STDIN_FILENO) < 0)
			_exit(EXIT_FAILURE);
		/* F: quit when it fits one screen, R: colours, S: chop long
		 * lines, X: leave the screen as it is, K: quit on Ctrl-C. */
		setenv("LESS", "FRSXMK", 0);
		pager_exec(command);
	}
	if (dup2(fd[1], STDOUT_FILENO) < 0) {
		int r = -errno;

		close(fd[0]);
		close(fd[1]);
		return log_error_errno(r, "Failed to write to the pager: %m");
	}
	close(fd[0]);
	close(fd[1]);
	/* The pager gone (q) before all was written ends us quietly. */
	signal(SIGPIPE, SIG_DFL);
	return 0;
}

void pager_close(void) {
	int null;

	if (pager_pid <= 0)
		return;
	fflush(stdout);
	/* EOF for the pager: stdout now goes nowhere. */
	null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (null >= 0) {
		(void) dup2(null, STDOUT_FILENO);
		close(null);
	} else
		close(STDOUT_FILENO);
	while (waitpid(pager_pid, NULL, 0) < 0 && errno == EINTR)
		;
	pager_pid = 0;
}
