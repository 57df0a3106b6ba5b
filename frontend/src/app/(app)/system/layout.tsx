import { titled } from "@/components/section-layout";

export const metadata = titled("System");
export { SectionLayout as default } from "@/components/section-layout";
