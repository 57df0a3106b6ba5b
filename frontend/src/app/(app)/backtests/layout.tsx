import { titled } from "@/components/section-layout";

export const metadata = titled("Backtests");
export { SectionLayout as default } from "@/components/section-layout";
