// The settings screens, for the route table (src/routes.tsx).
export { Audit } from "./Audit";
export { DialogSettings } from "./DialogSettings";
export { Regulations } from "./Regulations";
export { StandardMessages } from "./StandardMessages";
export { Templates } from "./Templates";
export { Tokens } from "./Tokens";
export { Webhooks } from "./Webhooks";
export { InboxSettings } from "./InboxSettings";
export { Knowledge } from "./Knowledge";
export { LinkedApps } from "./LinkedApps";
export { Macros } from "./Macros";
