import { titled } from "@/components/section-layout";

export const metadata = titled("Strategies");
export { SectionLayout as default } from "@/components/section-layout";
