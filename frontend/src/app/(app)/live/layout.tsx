import { titled } from "@/components/section-layout";

export const metadata = titled("Live trading");
export { SectionLayout as default } from "@/components/section-layout";
