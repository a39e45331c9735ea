// SPDX-License-Identifier: GPL-2.0-only
/*
 * lib/results.c when records cannot be written: a full device (/dev/full
 * behind results.jsonl) and a short write (RLIMIT_FSIZE cuts a record in
 * the middle, as a nearly full disk does).  The writer must exit 1 with
 * one line naming the cause, and results.jsonl must keep only whole lines.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/results.h"
#include "tests/unit/unit.h"

/* Writes records into @dir until the library gives up; returns the status. */
static int write_until_lost(const char *dir, long fsize, const char *err_path)
{
	struct results r;
	pid_t pid;
	int status, fd, i;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		fd = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		dup2(fd, 2);
		/* The KTAP "Bail out!" is the library's, not this test's. */
		dup2(fd, 1);
		if (fsize) {
			signal(SIGXFSZ, SIG_IGN);
			setrlimit(RLIMIT_FSIZE,
				  &(struct rlimit){ fsize, fsize });
		}
		results_open(&r, "unit", dir);
		for (i = 0; i < 1000; i++)
			results_count(&r, "v", "count", "count", i);
		results_close(&r);
		_exit(0);
	}
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return status;
}

static bool file_has(const char *path, const char *needle)
{
	char buf[4096] = "";
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return strstr(buf, needle);
}

/* Number of lines, or -1 if the file does not end with a newline. */
static long whole_lines(const char *path, long *size)
{
	FILE *f = fopen(path, "r");
	long lines = 0;
	int c, last = '\n';

	*size = 0;
	if (!f)
		return -1;
	while ((c = fgetc(f)) != EOF) {
		++*size;
		lines += c == '\n';
		last = c;
	}
	fclose(f);
	return last == '\n' ? lines : -1;
}

int main(void)
{
	char dir[] = "/tmp/test_results_write.XXXXXX", path[4200], err[4200];
	long lines, size;
	int status;

	printf("TAP version 13\n");
	if (!mkdtemp(dir))
		return 1;
	snprintf(path, sizeof(path), "%s/results.jsonl", dir);
	snprintf(err, sizeof(err), "%s/stderr", dir);

	if (symlink("/dev/full", path) == 0) {
		status = write_until_lost(dir, 0, err);
		CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 1,
		      "device full: the writer exits 1 (status %#x)", status);
		CHECK(file_has(
			      err,
			      "irqbench: results folder full: cannot write the count record to"),
		      "device full: one line says the results folder is full");
		CHECK(file_has(err, "No space left on device"),
		      "device full: with the real error");
		CHECK(file_has(err, "Bail out! results folder full"),
		      "device full: KTAP Bail out! on stdout");
		unlink(path);
	}

	/* ~4.5 records' worth: the fifth write is cut short. */
	status = write_until_lost(dir, 2000, err);
	lines = whole_lines(path, &size);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 1,
	      "short write: the writer exits 1 (status %#x)", status);
	CHECK(lines > 0,
	      "short write: %ld whole records kept, no torn line (%ld bytes)",
	      lines, size);
	CHECK(size <= 2000, "short write: the partial record was cut off");
	CHECK(file_has(err, "cannot write the count record to") &&
		      file_has(err, "File too large"),
	      "short write: one line with the real error");

	unlink(path);
	unlink(err);
	rmdir(dir);
	return unit_exit();
}
