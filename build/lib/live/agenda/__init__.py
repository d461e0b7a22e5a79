"""The live agenda: the run-of-show state machine and what carries it to every screen.

- `state`: the pure reducer (steps, timers held as deadlines, speaking queue, undo, end);
- `commands`: what each role may send, with which arguments;
- `protocol`: every message of the live websocket, validated at the edge;
- `hub`: each event's state in memory, its log, and the clients that follow it.
"""
