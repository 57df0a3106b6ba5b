import { titled } from "@/components/section-layout";

export const metadata = titled("Data");
export { SectionLayout as default } from "@/components/section-layout";
