#define DEMO 1
