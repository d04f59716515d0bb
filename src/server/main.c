/* relayd entry point: placeholder until the server core lands. */
int main(void) { return 0; }
