import { MemoryEventLog } from "../../../adapters/event-log/memory.ts";
import { eventLogContract } from "./contract.ts";

eventLogContract("memory", async () => new MemoryEventLog());
