// hello-cgo: calls into C (uname), so it needs the target's C toolchain and libc.
package main

/*
#include <sys/utsname.h>
#include <string.h>

static void machine(char *out, int n) {
	struct utsname u;
	uname(&u);
	strncpy(out, u.machine, n - 1);
	out[n - 1] = 0;
}
*/
import "C"

import (
	"fmt"
	"unsafe"
)

func main() {
	buf := make([]byte, 65)
	C.machine((*C.char)(unsafe.Pointer(&buf[0])), C.int(len(buf)))
	n := 0
	for n < len(buf) && buf[n] != 0 {
		n++
	}
	fmt.Printf("hello from cgo on %s\n", string(buf[:n]))
}
