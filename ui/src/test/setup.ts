// Vitest setup: DOM matchers (toBeInTheDocument, toBeChecked, …) for every test.
import '@testing-library/jest-dom/vitest';
