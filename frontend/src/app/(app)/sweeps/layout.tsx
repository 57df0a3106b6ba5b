import { titled } from "@/components/section-layout";

export const metadata = titled("Sweeps");
export { SectionLayout as default } from "@/components/section-layout";
