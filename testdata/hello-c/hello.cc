// hello-c, C++ flavour: needs the target's libstdc++ (xx-cxx-essentials).
#include <iostream>
#include <string>
#include <vector>
#include <sys/utsname.h>

int main() {
    struct utsname u;
    uname(&u);
    std::vector<std::string> words{"hello", "from", "C++", "on", u.machine};
    std::string line;
    for (const auto &w : words) {
        line += (line.empty() ? "" : " ") + w;
    }
    std::cout << line << std::endl;
    return 0;
}
