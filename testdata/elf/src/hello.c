/* The one program every fixture in testdata/elf is built from. */
#include <stdio.h>

int main(void) {
    double x = 1.5; /* a float, so the float ABI of the build shows */
    printf("hello from an xx-verify fixture (%g)\n", x * 2);
    return 0;
}
