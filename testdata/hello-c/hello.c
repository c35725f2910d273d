/* hello-c: prints the machine it runs on, so a test can tell that the
 * arm64 binary really ran as arm64 (under QEMU on an x86_64 host). */
#include <stdio.h>
#include <sys/utsname.h>

int main(void) {
    struct utsname u;
    if (uname(&u) != 0) {
        perror("uname");
        return 1;
    }
    printf("hello from C on %s\n", u.machine);
    return 0;
}
