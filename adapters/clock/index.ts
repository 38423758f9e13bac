/** Clock adapters: the real one for running nodes, the simulated one for every protocol test. */
export { realClock } from "./real.ts";
export { SimulatedClock } from "./simulated.ts";
