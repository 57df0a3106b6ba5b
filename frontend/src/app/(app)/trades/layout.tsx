import { titled } from "@/components/section-layout";

export const metadata = titled("Trades");
export { SectionLayout as default } from "@/components/section-layout";
