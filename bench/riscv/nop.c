/* Exits at once: measures an emulator's start-up and shutdown cost. */
#include "lib.h"

int main(void) { return 0; }
